"""Starting the UI server: bind first (clear errors), decide on a token, run uvicorn."""

from __future__ import annotations

import errno
import ipaddress
import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable
from typing import Any

from ..errors import UsageError

__all__ = ["bind", "is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    """True when ``host`` names only this machine (``127.0.0.1``, ``::1``, ``localhost``).

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0"), is_loopback("localhost")
        (True, False, True)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port).

    Raises:
        UsageError: the port is in use or taken by another program, or the address cannot
            be bound on this machine; one line saying what to do instead.
    """
    if not 0 <= port <= 65535:
        raise UsageError(f"Invalid port {port}: expected 0-65535 (0 picks a free port).")
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(
            f"Cannot bind to {host!r}: {exc.strerror}. Use 127.0.0.1 or an address of this machine."
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"Port {port} on {host} is already in use: pass --port with a free port, or --port 0 for any free one."
            ) from None
        if exc.errno == errno.EACCES:
            raise UsageError(f"Not allowed to bind port {port} on {host}: choose a port above 1023.") from None
        raise UsageError(
            f"Cannot bind to {host}:{port}: {exc.strerror}. Use 127.0.0.1 or an address of this machine."
        ) from None
    sock.set_inheritable(True)
    return sock


def url_for(host: str, port: int, token: str | None) -> str:
    """The address to open in a browser.

    Example:
        >>> url_for("::1", 8765, None)
        'http://[::1]:8765/'
    """
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def serve(
    root: str | os.PathLike[str] | None,
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = False,
    echo: Callable[[str, bool], Any] = lambda line, err: print(line),
) -> None:
    """Serve the UI until interrupted (Ctrl-C).

    Args:
        root: the store.
        host: the address to bind; other than a loopback address, a token is required.
        port: the port (0: any free port; the address printed names the real one).
        open_browser: open the page in the default browser once serving.
        echo: prints a line (``err`` True for stderr).
    """
    import uvicorn

    from ._app import LOCAL_HOSTS, create_app

    sock = bind(host, port)
    local = is_loopback(host)
    token = None if local else secrets.token_urlsafe(24)
    app = create_app(root, token=token, allowed_hosts=LOCAL_HOSTS | {host.strip("[]")} if local else None)
    real_port = sock.getsockname()[1]
    url = url_for(host, real_port, token)
    # from the start-up line on, Ctrl-C and SIGTERM stop the UI (uvicorn, once it runs, handles both and
    # raises the signal again after shutting down: to these handlers), also in a job that ignored SIGINT
    running: list[Any] = []  # the uvicorn server once made: a signal then asks it to stop (see _stop_on)
    previous = {signum: _stop_on(signum, running) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        if token:
            echo(f"Warning: serving on {host}, reachable from other machines; every request must carry the token.",
                 True)  # fmt: skip
        echo(f"runlab UI for {app.state.store.root} at {url} (read-only; Ctrl-C to stop)", False)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", server_header=False)
        server = uvicorn.Server(config)
        running.append(server)
        if open_browser:
            import webbrowser

            threading.Timer(0.5, webbrowser.open, args=(url,)).start()
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C (and SIGTERM) after shutting down cleanly
        pass
    finally:
        sock.close()
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)
    echo("runlab UI stopped.", True)


def _stop_on(signum: int, running: list[Any]) -> Any:
    """Make ``signum`` stop the UI in the main thread; the previous handler, or None where signals
    cannot be set (another thread).

    Before the server exists the signal raises KeyboardInterrupt (as Ctrl-C does); once it exists,
    it sets ``should_exit``, which uvicorn checks after starting and while serving: raised inside
    asyncio's event loop construction, the interrupt left a half-made loop whose ``__del__`` printed a
    traceback at exit.
    """

    def stop(number: int, frame: Any) -> None:
        if not running:
            raise KeyboardInterrupt
        running[0].should_exit = True

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signum, stop)
