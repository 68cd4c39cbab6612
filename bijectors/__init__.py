"""Exact, invertible flow layers as `tfp.bijectors.Bijector`s.

Generic image flows (nothing here knows about video). Direction follows TFP:
`forward` is generative (latent -> image), `inverse` maps an image to its
latent. Weights live in Keras 3 layers (`bijector.layer`); see
`flow_bijector.py`.
"""

from bijectors import _keras_backend  # noqa: F401  (selects Keras' TF backend)
from bijectors.actnorm import ActNorm, ActNormLayer
from bijectors.additive_coupling import AdditiveCoupling
from bijectors.affine_coupling import AffineCoupling
from bijectors.coupling import CouplingNetwork
from bijectors.flow_bijector import FlowBijector
from bijectors.invertible_conv1x1 import InvertibleConv1x1
from bijectors.multiscale_flow import MultiScaleFlow
from bijectors.squeeze import Squeeze

__all__ = [
    "ActNorm", "ActNormLayer", "AdditiveCoupling", "AffineCoupling",
    "CouplingNetwork", "FlowBijector", "InvertibleConv1x1", "MultiScaleFlow",
    "Squeeze",
]
