# The seed's script_with_globals test fixture (seed 002, "Test Fixtures"), unchanged.
learning_rate = 0.001
batch_size = 32


def main():
    print(f"LR: {learning_rate}, BS: {batch_size}")
    return learning_rate * batch_size


if __name__ == "__main__":
    main()
