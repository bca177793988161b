# An evaluation step for the seed's simple_workflow.py (the seed names it, without its code).
model_path = "model.pt"


def main():
    print(f"evaluating {model_path}")
    return {"model_path": model_path, "accuracy": 0.9}


if __name__ == "__main__":
    main()
