"""KohakuEngine's hello example: a plain script that knows nothing about runlab.

python examples/scripts/hello.py
runlab run examples/scripts/hello.py -c examples/configs/hello_config.py
"""

name = "World"
greeting = "Hello"


def main(excited=False):
    msg = f"{greeting}, {name}"
    if excited:
        msg += "!"
    print(msg)
    return msg


if __name__ == "__main__":
    main()
