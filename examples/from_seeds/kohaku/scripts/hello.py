# KohakuEngine's examples/scripts/hello.py (seed 002), unchanged: a plain script knows nothing of runlab.
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
