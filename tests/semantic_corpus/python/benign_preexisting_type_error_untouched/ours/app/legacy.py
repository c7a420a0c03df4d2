def legacy() -> int:
    return 'not an int'
