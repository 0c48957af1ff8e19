"""The running batch's KV cache: rows of different lengths, left-padded, with a per-row mask.

A row joins with the cache of its own prompt (computed alone); the shorter side is padded on
the left so every row's newest token sits in the last column. Rows leave by index; columns
no remaining row uses are dropped from the left.
"""

from typing import Any


def _layers(cache: Any) -> list[Any]:
    return list(cache.layers)


def _pad_left(tensor: Any, columns: int, dim: int) -> Any:
    import torch

    if columns == 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = columns
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)


class KVBatch:
    def __init__(self) -> None:
        self.cache: Any = None
        self.mask: Any = None
        """``[rows, columns]`` long: 1 where a row has a token, 0 for padding."""

    @property
    def rows(self) -> int:
        return 0 if self.mask is None else int(self.mask.shape[0])

    @property
    def columns(self) -> int:
        return 0 if self.mask is None else int(self.mask.shape[1])

    def add(self, cache: Any, length: int) -> None:
        """Append a row whose (unpadded) cache holds ``length`` tokens."""
        import torch

        mask = torch.ones((1, length), dtype=torch.long)
        if self.cache is None:
            self.cache, self.mask = cache, mask
            return
        ours, theirs = self.columns, length
        width = max(ours, theirs)
        for mine, new in zip(_layers(self.cache), _layers(cache), strict=True):
            mine.keys = torch.cat(
                [_pad_left(mine.keys, width - ours, 2), _pad_left(new.keys, width - theirs, 2)]
            )
            mine.values = torch.cat(
                [_pad_left(mine.values, width - ours, 2), _pad_left(new.values, width - theirs, 2)]
            )
        self.mask = torch.cat(
            [_pad_left(self.mask, width - ours, 1), _pad_left(mask, width - theirs, 1)]
        )

    def step_mask(self) -> Any:
        """The attention mask of a decode step: every row gets one more token."""
        import torch

        self.mask = torch.cat([self.mask, self.mask.new_ones((self.rows, 1))], dim=1)
        return self.mask

    def keep(self, indices: list[int]) -> None:
        """Keep only these rows (in this order), then drop all-padding columns on the left."""
        import torch

        if not indices:
            self.cache = self.mask = None
            return
        if len(indices) < self.rows:
            index = torch.tensor(indices, dtype=torch.long)
            for layer in _layers(self.cache):
                layer.keys = layer.keys.index_select(0, index)
                layer.values = layer.values.index_select(0, index)
            self.mask = self.mask.index_select(0, index)
        used = self.mask.any(dim=0).nonzero()
        first = int(used[0].item()) if used.numel() else 0
        if first:
            for layer in _layers(self.cache):
                layer.keys = layer.keys[:, :, first:, :]
                layer.values = layer.values[:, :, first:, :]
            self.mask = self.mask[:, first:]


__all__ = ["KVBatch"]
