"""A trained model as a TensorFlow SavedModel, for serving.

    export_saved_model(model, "serving/videoflow")      # or model.export_serving

    loaded = tf.saved_model.load("serving/videoflow")   # TensorFlow only
    frames = loaded.signatures["sample"](
        context=context,                 # uint8 [B, K, H, W, C]
        num_samples=tf.constant(4),      # int32 scalar
        temperature=tf.constant(0.6),    # float32 scalar
        seed=tf.constant([1, 2]))["frames"]      # uint8 [S, B, T, H, W, C]
    bits = loaded.signatures["bits_per_pixel"](
        context=context, target=target)["bits_per_pixel"]        # float32 [B]

The signatures are traced from the model's public methods (`sample_future`,
`bits_per_pixel`), so they follow the model whatever its prior or flow. They
are stateless: the same inputs give the same outputs. `bits_per_pixel`
dequantizes with the fixed seed `BITS_PER_PIXEL_SEED` and so equals
`model.bits_per_pixel(concat(context, target), seed=BITS_PER_PIXEL_SEED)`.
The target has the model's T (`num_target_frames`) frames; `sample` draws T.
"""

import tensorflow as tf

from tfp_videoflow import files

BITS_PER_PIXEL_SEED = (0, 0)


class ExportError(ValueError):
    """The SavedModel cannot be written where asked."""


class _Serving(tf.Module):
    """The model's weights and its two serving functions."""

    def __init__(self, model):
        super().__init__(name="videoflow")
        self.model = model
        k, t = model.num_context_frames, model.num_target_frames
        frame = tuple(model.frame_shape)
        self.context_spec = tf.TensorSpec((None, k) + frame, tf.uint8,
                                          name="context")
        self.target_spec = tf.TensorSpec((None, t) + frame, tf.uint8,
                                         name="target")

    def sample(self, context, num_samples, temperature, seed):
        frames = self.model.sample_future(
            context, num_samples=num_samples, temperature=temperature,
            seed=seed)
        return {"frames": frames}

    def bits_per_pixel(self, context, target):
        videos = tf.concat([context, target], axis=1)
        bits = self.model.bits_per_pixel(
            videos, seed=tf.constant(BITS_PER_PIXEL_SEED, tf.int32))
        return {"bits_per_pixel": bits}

    def signatures(self):
        # No autograph: the model's loops are TensorFlow ops already, and
        # tracing then does not depend on reading the source files.
        sample = tf.function(self.sample, autograph=False, input_signature=[
            self.context_spec, tf.TensorSpec((), tf.int32, name="num_samples"),
            tf.TensorSpec((), tf.float32, name="temperature"),
            tf.TensorSpec((2,), tf.int32, name="seed")])
        bits = tf.function(self.bits_per_pixel, autograph=False,
                           input_signature=[self.context_spec,
                                            self.target_spec])
        return {"sample": sample.get_concrete_function(),
                "bits_per_pixel": bits.get_concrete_function()}


def export_saved_model(model, path):
    """Writes `model` as a SavedModel with `sample` and `bits_per_pixel`.

    Args:
      model: a `VideoFlowModel`.
      path: a directory that does not exist yet (or is empty). The SavedModel
        is written next to it and renamed into place, so `path` never holds
        half an export.

    Returns:
      `path` as a `pathlib.Path`.
    """
    try:
        path = files.check_new_output(path)
    except FileExistsError as error:
        raise ExportError(str(error)) from error
    files.make_dirs(path.parent)
    serving = _Serving(model)

    def write(tmp):
        try:
            tf.saved_model.save(serving, str(tmp),
                                signatures=serving.signatures())
        except tf.errors.OpError as error:
            # TensorFlow's file system reports a full disk (or a read-only
            # folder) as its own error: an OSError for files.atomic_write.
            first = (str(error.message).strip().splitlines() or [""])[0]
            raise OSError(first) from error
        if path.exists():
            path.rmdir()  # empty, checked above

    files.atomic_write(path, write)
    return path
