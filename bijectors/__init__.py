"""Exact, invertible flow layers as `tfp.bijectors.Bijector`s.

Generic image flows (nothing here knows about video). Direction follows TFP:
`forward` is generative (latent -> image), `inverse` maps an image to its
latent. Each flow step is a Keras 3 layer that owns its weights and offers
`encode` / `decode` (`flow_layer.py`); `FlowBijector` is the TFP face of any
of them (`flow_bijector.py`), and `ActNorm`, `AffineCoupling`, ... build
the layer and its bijector in one call.
"""

from bijectors import _keras_backend  # noqa: F401  (selects Keras' TF backend)
from bijectors.actnorm import ActNorm, ActNormLayer
from bijectors.additive_coupling import AdditiveCoupling, AdditiveCouplingLayer
from bijectors.affine_coupling import AffineCoupling, AffineCouplingLayer
from bijectors.coupling import CouplingLayer, CouplingNetwork
from bijectors.flow_bijector import FlowBijector
from bijectors.flow_layer import FlowLayer
from bijectors.invertible_conv1x1 import InvertibleConv1x1, InvertibleConv1x1Layer
from bijectors.multiscale_flow import MultiScaleFlow, MultiScaleFlowLayer
from bijectors.squeeze import Squeeze, SqueezeLayer

__all__ = [
    "ActNorm", "ActNormLayer", "AdditiveCoupling", "AdditiveCouplingLayer",
    "AffineCoupling", "AffineCouplingLayer", "CouplingLayer",
    "CouplingNetwork", "FlowBijector", "FlowLayer", "InvertibleConv1x1",
    "InvertibleConv1x1Layer", "MultiScaleFlow", "MultiScaleFlowLayer",
    "Squeeze", "SqueezeLayer",
]
