"""The kernel manager `make present` gives Voila (``--VoilaConfiguration.multi_kernel_manager_class``).

Voila's pre-heated kernels wait in a pool, shielded from jupyter_server's idle culler. The
moment a page takes one, the shield is gone, but the page needs a second or two (its scripts)
before it connects to the kernel; a kernel that waited in the pool longer than the culler's
``cull_idle_timeout`` (40 s under `make present`) is then idle *and* unconnected, and the next
culler pass (every 10 s) shut it down under the page, which stayed at "Loading widget..."
(seen for about one dashboard in five). Here a kernel's idle time counts from the first culler
pass that may cull it: a kernel leaving the pool gets the full timeout to be connected, and a
closed page's kernel is culled as before (at most one culler interval later).
"""

from __future__ import annotations

from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager


class GraceKernelManager(AsyncMappingKernelManager):
    """jupyter_server's kernel manager whose culler counts a kernel's idle time from the first
    pass that sees it (see the module docstring)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._cullable_since: dict[str, object] = {}

    async def cull_kernel_if_idle(self, kernel_id: str):
        kernel = self._kernels.get(kernel_id)
        if kernel is not None and hasattr(kernel, "last_activity"):
            since = self._cullable_since.setdefault(kernel_id, utcnow())
            if kernel.last_activity < since:  # it sat in Voila's pool: idle only from now on
                kernel.last_activity = since
        return await super().cull_kernel_if_idle(kernel_id)

    async def shutdown_kernel(self, kernel_id: str, *args, **kwargs):
        self._cullable_since.pop(kernel_id, None)
        return await super().shutdown_kernel(kernel_id, *args, **kwargs)
