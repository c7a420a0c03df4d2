def load():
    return {"alpha": 1, "beta": 2}
