"""KohakuEngine's simple config example, with runlab's Config.

runlab config show examples/configs/hello_config.py
"""

from runlab.params import Config


def config_gen():
    return Config(
        globals_dict={
            "name": "KohakuEngine",
            "greeting": "Welcome to",
        },
        kwargs={"excited": True},
    )
