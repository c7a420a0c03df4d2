from alerts.levels import Level


def should_page(score):
    return score >= Level.HIGH.value
