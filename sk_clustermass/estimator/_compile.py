"""Running the network through :func:`torch.compile`, or eagerly when that fails.

``ClusterMassRegressor(compile=True)`` asks for the network's forward pass (in
training and in prediction) to be compiled: on a GPU this removes most of the Python
and kernel-launch overhead of a small network, on a CPU it fuses the element-wise
layers into the convolutions' loops. Compilation is lazy (it happens at the first
call, and again for a new batch shape) and can fail for reasons that have nothing to
do with the model: no C++ compiler, an unsupported Python, a backend bug. Then
:class:`CompiledModule` warns once with :class:`CompilationFallbackWarning` and runs
the module eagerly from then on; results are those of an uncompiled fit.

The wrapper is not an :class:`torch.nn.Module`: the net's ``module_`` stays the plain
module (its weights, state dict, checkpoints and saved models are unchanged), and the
compiled graph is rebuilt after unpickling rather than saved.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

__all__ = ["CompilationFallbackWarning", "CompiledModule"]


class CompilationFallbackWarning(RuntimeWarning):
    """``compile=True``, but :func:`torch.compile` failed: the network runs eagerly.

    The results are those of ``compile=False``; only the speed-up is lost. The message
    says what failed (often a missing C++ compiler on the CPU, or a Python version that
    this torch cannot compile for).
    """


class CompiledModule:
    """Call ``module`` through :func:`torch.compile`, falling back to eager once it fails.

    Parameters
    ----------
    module : torch.nn.Module
        The network; it is shared, not copied (the compiled graph reads its weights).

    Attributes
    ----------
    failed : bool
        Whether compilation failed and calls now run the module eagerly.

    Examples
    --------
    >>> import torch
    >>> wrapped = CompiledModule(torch.nn.Linear(2, 1))
    >>> wrapped.failed
    False
    """

    def __init__(self, module: torch.nn.Module) -> None:
        self.module = module
        self.failed = False
        self._compiled: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the compiled module (compiling it first if needed), else the module."""
        if not self.failed:
            try:
                if self._compiled is None:
                    self._compiled = torch.compile(self.module)
                return self._compiled(*args, **kwargs)
            except Exception as error:  # any failure, at any call, falls back to eager
                self._fall_back(error)
        return self.module(*args, **kwargs)

    def _fall_back(self, error: Exception) -> None:
        self.failed = True
        self._compiled = None
        first_line = (str(error).strip().splitlines() or [""])[0][:300]
        message = (
            f"compile=True, but torch.compile failed ({type(error).__name__}: {first_line}); "
            "the network runs without compilation (same results, without the speed-up). "
            "Set compile=False to silence this warning."
        )
        warnings.warn(message, CompilationFallbackWarning, stacklevel=3)

    def __getstate__(self) -> dict:
        """Pickle the module, not the compiled graph (it is compiled again when called)."""
        return {"module": self.module, "failed": self.failed, "_compiled": None}
