# The plugin system's "Creating a Custom Plugin" (seed 003); only the import changed
# (was: from src.deia.plugin_system import BasePlugin, PluginResult, PluginMetadata).
from runlab.plugins import BasePlugin, PluginMetadata, PluginResult  # noqa: F401  (PluginMetadata: as the seed)


class MyPlugin(BasePlugin):
    def initialize(self, context):
        """Initialize plugin resources."""
        self.set_state("initialized", True)
        print(f"Plugin initialized: {context.name}")

    def execute(self, context):
        """Execute plugin logic."""
        try:
            # Your plugin logic here
            result = {"message": "Plugin executed", "args": context.args, "config": context.config}
            return PluginResult(success=True, output=result)
        except Exception as e:
            return PluginResult(success=False, error=str(e))

    def cleanup(self):
        """Clean up resources."""
        self.set_state("initialized", False)

    def get_help(self):
        """Return help text."""
        return "My custom plugin description"
