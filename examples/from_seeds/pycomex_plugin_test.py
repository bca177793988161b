"""PyComex's plugin tests (seed 000, sections 1.1-1.3 and 13.3), ported by changing the imports.

Was::

    from pycomex.plugin import Plugin, PluginManager, hook
    from pycomex.testing import MockConfig, MockExperiment

Run with ``python -m pytest -p no:cacheprovider pycomex_plugin_test.py``.
"""

from runlab.plugins import Plugin, PluginManager, StopHook, hook
from runlab.testing import MockConfig, MockExperiment


# tests/test_plugin.py (section 13.3)
class TestPluginManager:
    def test_register_hook_basically_works(self):
        config = MockConfig()
        pm = PluginManager(config=config)

        def hook(config, **kwargs):
            config.data["hook"] = True

        pm.register_hook(hook_name="test_hook", function=hook)
        pm.apply_hook(hook_name="test_hook")

        assert config.data["hook"] is True

    def test_priority_and_stop_hook(self):
        config = MockConfig()
        pm = PluginManager(config=config)
        calls = []

        @pm.hook("test_hook", priority=10)
        def first(config, **kwargs):
            calls.append("first")

        @pm.hook("test_hook", priority=20)
        def stops(config, **kwargs):
            calls.append("stops")
            raise StopHook("stopped")

        assert pm.apply_hook("test_hook") == "stopped"
        assert calls == ["stops"]


# A plugin in the style of section 1.3 (NotifyPlugin, PlotTrackedElementsPlugin)
class TrackCountPlugin(Plugin):
    @hook("before_experiment_parameters", priority=0)
    def before_experiment_parameters(self, config, experiment, **kwargs):
        experiment.__COUNT__ = True

    @hook("after_experiment_finalize", priority=0)
    def after_experiment_finalize(self, config, experiment, **kwargs):
        config.data["tracked"] = list(experiment.metadata["__track__"])


class TestPlugin:
    def test_plugin_register_finds_its_hooks(self):
        config = MockConfig()
        pm = PluginManager(config=config)
        plugin = TrackCountPlugin(config=config)
        plugin.register()

        experiment = MockExperiment()
        experiment.track("loss", 0.5)
        pm.apply_hook("before_experiment_parameters", experiment=experiment, parameters={})
        pm.apply_hook("after_experiment_finalize", experiment=experiment, run=None)

        assert experiment.__COUNT__ is True
        assert config.data["tracked"] == ["loss"]

        plugin.unregister()
        config.data.clear()
        pm.apply_hook("after_experiment_finalize", experiment=experiment, run=None)
        assert "tracked" not in config.data

    def test_hook_marked_function_on_a_plugin_object(self):
        config = MockConfig()
        pm = PluginManager(config=config)
        plugin = Plugin(config=config)

        @hook("test_hook", priority=0)
        def on_object(config, **kwargs):
            config.data["object"] = True

        plugin.on_object = on_object
        plugin.register()
        pm.apply_hook("test_hook")
        assert config.data["object"] is True
