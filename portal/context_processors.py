from rollout.models import DemoDataset


def demo_data(request) -> dict:
    """Label every page when the database holds seed_demo's data (one cheap query, lazily). A page that runs
    a query anyway reads the flag in it instead (rollout.selectors.demo_data_flag)."""
    return {"demo_data": lambda: DemoDataset.objects.exists()}
