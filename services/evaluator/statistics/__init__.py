"""Statistics of experiments, pure functions over sufficient statistics (n, Σx, Σx²)."""

from services.evaluator.statistics.means import welch_t_test
from services.evaluator.statistics.multiple import holm_adjusted
from services.evaluator.statistics.paired import PairedOutcome, mcnemar_exact, sign_test
from services.evaluator.statistics.planning import (
    units_per_arm_for_means,
    units_per_arm_for_proportions,
)
from services.evaluator.statistics.proportions import (
    chi_squared_test,
    two_proportion_z_test,
    wilson_interval,
)
from services.evaluator.statistics.recommendation import (
    Candidate,
    RecommendationWeights,
    recommend,
    weighted_scores,
)
from services.evaluator.statistics.sequential import (
    MetricKind,
    SequentialLook,
    combine,
    look,
    mixture_variance,
)
from services.evaluator.statistics.srm import SRM_THRESHOLD, SampleRatioCheck, sample_ratio_check
from services.evaluator.statistics.summaries import Comparison, Summary

__all__ = [
    "SRM_THRESHOLD",
    "Candidate",
    "Comparison",
    "MetricKind",
    "PairedOutcome",
    "RecommendationWeights",
    "SampleRatioCheck",
    "SequentialLook",
    "Summary",
    "chi_squared_test",
    "combine",
    "holm_adjusted",
    "look",
    "mcnemar_exact",
    "mixture_variance",
    "recommend",
    "sample_ratio_check",
    "sign_test",
    "two_proportion_z_test",
    "units_per_arm_for_means",
    "units_per_arm_for_proportions",
    "weighted_scores",
    "welch_t_test",
    "wilson_interval",
]
