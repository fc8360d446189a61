"""The Dagster code location: every asset, check, job and resource of the pipeline."""

import dagster as dg

from migrant_assets.defs import features, graphs, ingest, labels, models, reports
from migrant_assets.defs.jobs import JOBS
from migrant_assets.defs.resources import StudyResource

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([ingest, labels, graphs, features, models, reports]),
    jobs=JOBS,
    resources={"study": StudyResource()},
)
