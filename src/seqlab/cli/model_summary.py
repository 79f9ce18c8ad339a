"""The model summary printed when fit starts: Lightning's `RichModelSummary` without the columns and lines
that say nothing for seqlab's models.

Lightning fills a FLOPs column (and a "Total FLOPs" line) with zeros when the model's FLOPs are not counted,
which seqlab's recurrent loops never are, and a Mode column and "Modules in eval mode: 0" line that read
"train" for every module at the start of fit. Both are shown when they carry a value: FLOPs when the total
is not zero, the mode when some module is in eval mode (a frozen part).
"""

from __future__ import annotations

from typing import Any

from lightning.pytorch.callbacks import RichModelSummary
from lightning.pytorch.utilities.model_summary import get_human_readable_count
from lightning.pytorch.utilities.model_summary.model_summary import get_formatted_model_size


class ModelSummaryTable(RichModelSummary):
    """`RichModelSummary` (same arguments) leaving out the all-zero FLOPs and all-"train" Mode columns."""

    @staticmethod
    def summarize(summary_data: list[tuple[str, list[str]]], total_parameters: int, trainable_parameters: int,
                  model_size: float, total_training_modes: dict[str, int], total_flops: int,
                  **summarize_kwargs: Any) -> None:
        from rich import get_console
        from rich.table import Table

        some_eval = total_training_modes.get("eval", 0) > 0
        dropped = {"FLOPs"} if not total_flops else set()
        if not some_eval:
            dropped.add("Mode")
        columns = [(name, values) for name, values in summary_data if name not in dropped]
        table = Table(header_style=summarize_kwargs.get("header_style", "bold magenta"))
        for name, _ in columns:  # the first is " ", the layer indices
            table.add_column(name, justify="left" if name in ("Name", "Type", "Mode") else "right",
                             no_wrap=name == "Name", style="dim" if name == " " else None)
        for row in zip(*(values for _, values in columns), strict=True):
            table.add_row(*row)
        console = get_console()
        console.print(table)

        frozen = int(total_parameters - trainable_parameters)
        lines = [f"Trainable params: {get_human_readable_count(int(trainable_parameters))}",
                 f"Non-trainable params: {get_human_readable_count(frozen)}",
                 f"Total params: {get_human_readable_count(int(total_parameters))}",
                 f"Total estimated model params size (MB): {get_formatted_model_size(model_size)}"]
        if some_eval:
            lines.append(f"Modules in train mode: {total_training_modes['train']}, "
                         f"in eval mode: {total_training_modes['eval']}")
        if total_flops:
            lines.append(f"Total FLOPs: {get_human_readable_count(total_flops)}")
        console.print("\n".join(lines), highlight=False)
