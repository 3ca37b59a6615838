from rollout.models import DemoDataset


def demo_data(request) -> dict:
    """Label every page when the database holds seed_demo's data (one cheap query, lazily)."""
    return {"demo_data": lambda: DemoDataset.objects.exists()}
