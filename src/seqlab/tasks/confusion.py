"""The confusion matrix of a classifier: an image for the loggers and a text table for `eval.py`.

Rows are the true classes and columns the predicted ones (torchmetrics' `MulticlassConfusionMatrix`
layout), counts of examples. The figure colours each row by its share of the row's examples (so a rare
class is as readable as a common one) and writes the counts in the cells while they stay legible.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from torch import Tensor

MAX_ANNOTATED = 20  # classes up to which each cell shows its count


def class_labels(num_classes: int, names: list | None) -> list[str]:
    """The classes' names as strings, else their ids."""
    return [str(name) for name in names] if names else [str(i) for i in range(num_classes)]


def confusion_figure(matrix: Tensor, names: list | None = None, title: str = "confusion matrix") -> Figure:
    """`matrix (C, C)` counts as a heatmap: true class down, predicted class across, row-normalised colour."""
    counts = matrix.detach().cpu().long()  # (C, C)
    share = counts.double() / counts.sum(1, keepdim=True).clamp(min=1)  # (C, C), rows sum to 1
    labels = class_labels(len(counts), names)
    size = min(12.0, 3.0 + 0.45 * len(labels))
    figure = Figure(figsize=(size + 1.2, size), dpi=100)
    axes = figure.add_subplot()
    image = axes.imshow(share.numpy(), cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(f"{title} ({int(counts.sum())} examples)")
    if len(labels) <= MAX_ANNOTATED:
        for row in range(len(labels)):
            for column in range(len(labels)):
                dark = share[row, column] > 0.5
                axes.text(column, row, str(int(counts[row, column])), ha="center", va="center",
                          fontsize=8, color="white" if dark else "black")
    figure.colorbar(image, ax=axes, label="share of the true class's examples")
    figure.tight_layout()
    return figure


def confusion_table(matrix: Tensor, names: list | None = None) -> str:
    """`matrix (C, C)` as aligned text: a header of predicted classes, one row per true class, and each true
    class's recall (its diagonal share) at the end of its row."""
    counts = matrix.detach().cpu().long().tolist()  # C rows of C counts
    labels = class_labels(len(counts), names)
    width = max(len(label) for label in labels)
    cell = max(width, *(len(str(value)) for row in counts for value in row), 4)
    header = " " * width + "  " + " ".join(label.rjust(cell) for label in labels) + "  recall"
    lines = ["confusion matrix (rows: true class, columns: predicted class)", header]
    for label, row, index in zip(labels, counts, range(len(counts)), strict=True):
        total = sum(row)
        recall = f"{row[index] / total:.3f}" if total else "n/a"
        lines.append(label.rjust(width) + "  " + " ".join(str(v).rjust(cell) for v in row) + f"  {recall}")
    return "\n".join(lines)
