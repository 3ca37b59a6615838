from django.db.models import Exists

from rollout.models import DemoDataset


def demo_data_flag() -> Exists:
    """Whether seed_demo's data is in the database, as an expression: a page that runs a query
    anyway annotates it with this and puts `demo_data` in its context, saving the query below."""
    return Exists(DemoDataset.objects.all())


def demo_data(request) -> dict:
    """Label every page when the database holds seed_demo's data (one cheap query, lazily)."""
    return {"demo_data": lambda: DemoDataset.objects.exists()}
