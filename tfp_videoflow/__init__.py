"""VideoFlow (Kumar et al., ICLR 2020) as TFP distributions trained with Keras.

    import tfp_videoflow as vf
    model = vf.VideoFlowModel(frame_shape=(64, 64, 3), num_context_frames=3,
                              num_target_frames=10)
    dist = model(context)          # a tfp.distributions.TransformedDistribution

See README.md and the module docstrings.
"""

from bijectors import _keras_backend  # noqa: F401  (selects Keras' TF backend)

# Imported so that models compiled with its optimiser schedule load after a
# plain `import tfp_videoflow` (Keras looks the class up by registered name).
from tfp_videoflow import (
    data,
    dequantization,
    diagnostics,
    files,
    presets,
    priors,
    training,
)
from tfp_videoflow.latent_dynamics import LatentDynamics, LatentDynamicsNetwork
from tfp_videoflow.model import VideoFlowModel
from tfp_videoflow.pretrained import available_pretrained, pretrained
from tfp_videoflow.video_flow import VideoFlow

__all__ = [
    "LatentDynamics", "LatentDynamicsNetwork", "VideoFlow", "VideoFlowModel",
    "available_pretrained", "data", "dequantization", "diagnostics", "files",
    "pretrained", "presets", "priors", "training",
]
