"""The Dagster code location: every asset, check and resource of the pipeline."""

import dagster as dg

from migrant_assets.defs import ingest
from migrant_assets.defs.resources import StudyResource

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([ingest]),
    resources={"study": StudyResource()},
)
