"""``python -m runlab`` runs the command line."""

import gc

gc.disable()  # no collections while the command line loads: it lives as long as the process (cli._main._freeze_loaded)
try:
    from .cli import main
finally:
    gc.freeze()
    gc.enable()

main()
