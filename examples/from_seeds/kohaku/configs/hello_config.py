# KohakuEngine's examples/configs/hello_config.py; only the import changed (was kohakuengine.config).
from runlab.config import Config


def config_gen():
    return Config(globals_dict={"name": "KohakuEngine", "greeting": "Welcome to"}, kwargs={"excited": True})
