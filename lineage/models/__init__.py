"""Registry classes; importing this package registers all of them."""

from lineage.models.user import User
from lineage.models.space import Space, SpaceMember
from lineage.models.storage import Storage
from lineage.models.environment import Environment
from lineage.models.transform import Transform
from lineage.models.run import Run
from lineage.models.project import Project
from lineage.models.label import Label
from lineage.models.feature import ArtifactFeatureValue, Feature, FeatureValue
from lineage.models.change import RecordChange
from lineage.artifact import Artifact

__all__ = [
    "Artifact", "ArtifactFeatureValue", "Environment", "Feature", "FeatureValue", "Label", "Project", "RecordChange",
    "Run", "Space", "SpaceMember", "Storage", "Transform", "User",
]
