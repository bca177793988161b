"""The plugin system's "Basic Plugin Usage" (seed 003); only the import changed.

Was ``from src.deia.plugin_system import PluginManager, PluginMetadata, PluginContext``. Run it
from this folder (``cd examples/from_seeds && python deia_usage.py``): the plugin folder
``.deia/plugins`` is relative, as in the seed.
"""

from runlab.plugins import PluginContext, PluginManager, PluginMetadata

# Initialize manager
manager = PluginManager([".deia/plugins"])

# Discover plugins
discovered = manager.discover_plugins()
print(f"Found {len(discovered)} plugins")

# Load all plugins
metadata_map = {
    "my_plugin": PluginMetadata(name="my_plugin", version="1.0.0", author="developer", description="Custom plugin")
}
loaded = manager.load_all(metadata_map)

# Initialize plugin
context = PluginContext(name="my_plugin", args=["arg1", "arg2"])
manager.initialize_plugin("my_plugin", context)

# Execute plugin
result = manager.execute_plugin("my_plugin", context)
if result.success:
    print(f"Output: {result.output}")
else:
    print(f"Error: {result.error}")

# Get plugin help
print(manager.get_plugin_help("my_plugin"))

# Check plugin status
status = manager.get_plugin_status("my_plugin")
print(f"Status: {status}")

# Cleanup
manager.cleanup_plugin("my_plugin")
