"""Installs the `tfp_videoflow` and `bijectors` packages."""

import pathlib

import setuptools

HERE = pathlib.Path(__file__).parent

INSTALL_REQUIRES = [
    # Tested together: TF 2.21, TFP 0.25, Keras 3 (TF backend), Python 3.11.
    "tensorflow>=2.21,<2.22",
    "tensorflow-probability>=0.25,<0.26",
    "tf-keras>=2.21,<2.22",  # TFP imports it for its Keras-2 layers.
    "keras>=3.10,<4",
    "tensorboard>=2.20,<3",  # tf.summary's writer (TF no longer brings it).
    "tensorflow-datasets>=4.9.9,<5",
    # TFDS needs it to build a data set (our Stochastic Movement builder) but
    # does not declare it.
    "importlib_resources>=6",
    "numpy>=1.26,<3",
    "imageio>=2.34,<3",
    "pillow>=10",
]

NOTEBOOKS_REQUIRE = ["nbclient>=0.10", "nbformat>=5.10", "ipykernel>=6",
                     "matplotlib>=3.8"]
EXTRAS_REQUIRE = {
    # The tests run the notebooks too, so they need what the notebooks need.
    # PyAV: the tests write and read real .mp4 files (a user's own videos).
    "test": ["pytest>=8", "pytest-xdist>=3.5", "ruff>=0.17,<0.18", "av>=12"]
    + NOTEBOOKS_REQUIRE,
    "video": ["av>=12"],
    "notebooks": ["jupyter"] + NOTEBOOKS_REQUIRE,
}

setuptools.setup(
    name="tfp_videoflow",
    version="0.1.0",
    description=("VideoFlow (Kumar et al., ICLR 2020): a flow-based generative "
                 "model for video, as TensorFlow Probability bijectors and "
                 "distributions trained with Keras."),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=setuptools.find_packages(include=["tfp_videoflow", "tfp_videoflow.*",
                                               "bijectors", "bijectors.*"]),
    # The shipped trained models (`vf.pretrained`).
    package_data={"tfp_videoflow": ["pretrained_models/*.keras"]},
    # The command's launcher: outside the package, see its docstring.
    py_modules=["videoflow"],
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    entry_points={"console_scripts": ["videoflow=videoflow:main"]},
)
