"""Feature Pyramid Network over the backbone maps, and the feature-extractor model.

From the backbone's ``{level: C_level}`` (paper 2.4): a 1x1 lateral conv to ``fpn_channels`` on
each, a top-down pathway (2x nearest upsample of the coarser map + lateral), then a 3x3 conv on
every merged map -> P2..P4 (TEMNet) or P2..P5 (ResNets). Levels above the backbone's coarsest,
needed only by the RPN's larger anchor scales, are stride-2 subsamples (1x1 max-pool, stride 2)
of the level below, as the research code's P6. Backbone maps finer than the finest level the
config uses (``config.pyramid_levels[0]``) are left out of the pyramid.
"""

from __future__ import annotations

import keras

from temnet_app.detector.model.backbones import PixelNormalization, backbone_features


def pyramid(c_feats: dict, config) -> dict:
    """``{level: P_level}`` for every level in ``config.pyramid_levels``."""
    native = [k for k in sorted(c_feats) if k >= config.pyramid_levels[0]]
    laterals = {k: keras.layers.Conv2D(config.fpn_channels, 1, name=f"fpn_lateral{k}")(c_feats[k])
                for k in native}
    merged = {native[-1]: laterals[native[-1]]}
    for k in reversed(native[:-1]):
        up = keras.layers.UpSampling2D(2, interpolation="nearest",
                                       name=f"fpn_upsample{k + 1}")(merged[k + 1])
        merged[k] = keras.layers.Add(name=f"fpn_add{k}")([up, laterals[k]])
    out = {k: keras.layers.Conv2D(config.fpn_channels, 3, padding="same",
                                  name=f"fpn_p{k}")(merged[k]) for k in native}
    for k in config.pyramid_levels:
        if k not in out:
            out[k] = keras.layers.MaxPooling2D(1, strides=2, name=f"fpn_subsample_p{k}")(out[k - 1])
    return {k: out[k] for k in config.pyramid_levels}


def build_feature_extractor(config) -> keras.Model:
    """Keras model: images ``(B, H, W, C)`` of 0-255 grey -> ``[P_k for k in pyramid_levels]``.

    H and W may be any multiples of 32 (fully convolutional). Includes the pixel
    normalisation, so callers feed raw grey values (float or uint8 cast to float).
    """
    images = keras.Input((None, None, config.input_channels), name="images")
    x = PixelNormalization(config.pixel_mean, config.pixel_std, name="pixel_norm")(images)
    feats = pyramid(backbone_features(x, config), config)
    return keras.Model(images, [feats[k] for k in config.pyramid_levels], name="features")
