# A preprocessing step for the seed's simple_workflow.py (the seed names it, without its code).
input_dir = "./data/raw"


def main():
    print(f"preprocessing {input_dir}")
    return {"input_dir": input_dir, "samples": 100}


if __name__ == "__main__":
    main()
