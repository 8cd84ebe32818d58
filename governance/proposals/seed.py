"""(Being written: the proposals demo data.)"""

MODELS = ("proposals.Category", "proposals.Proposal")


def seed_proposals(context) -> None:
    return None
