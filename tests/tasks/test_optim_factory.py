"""Optimizers and LR schedules from plain-data specs: each config option builds what torch builds by hand, the
warmup-cosine schedule follows its formula, and anything outside the allow-list is refused in one line."""

from __future__ import annotations

import math

import pytest
import torch
import yaml

from seqlab.cli.choices import CONFIG_DIR
from seqlab.tasks.optim_factory import (
    build_optimizer,
    build_scheduler,
    check_optimizer_spec,
    check_scheduler_spec,
    optimizer_spec,
    scheduler_spec,
)
from seqlab.tasks.schedules import WarmupCosineLR


def group_spec(group: str, option: str):
    """The spec an option of the `optimizer` / `lr_scheduler` group puts under `task.`."""
    content = yaml.safe_load((CONFIG_DIR / group / f"{option}.yaml").read_text())
    return content["optimizer" if group == "optimizer" else "lr_scheduler"]


def one_step(optimizer_factory, seed: int = 0) -> torch.Tensor:
    """The weights of a small linear model after two steps of `optimizer_factory(parameters)`."""
    torch.manual_seed(seed)
    model = torch.nn.Linear(4, 3)
    optimizer = optimizer_factory(model.parameters())
    x, y = torch.randn(8, 4), torch.randn(8, 3)  # (B, I), (B, O)
    for _ in range(2):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@pytest.mark.parametrize("option, by_hand", [
    ("adam", lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1)),
    ("adamw", lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99, weight_decay=0.1)),
])
def test_each_optimizer_option_matches_torch_built_by_hand(option, by_hand):
    spec = group_spec("optimizer", option)
    from_spec = one_step(lambda p: build_optimizer(spec, p, lr=0.01, weight_decay=0.1))
    torch.testing.assert_close(from_spec, one_step(by_hand), rtol=0, atol=0)


def test_any_torch_optimizer_by_target_and_the_spec_lr_wins():
    spec = {"_target_": "torch.optim.Adagrad", "lr": 0.5, "lr_decay": 0.01}
    from_spec = one_step(lambda p: build_optimizer(spec, p, lr=0.01, weight_decay=0.0))
    torch.testing.assert_close(from_spec, one_step(lambda p: torch.optim.Adagrad(p, lr=0.5, lr_decay=0.01)))


def test_short_names_still_work():
    assert optimizer_spec("sgd") == {"_target_": "torch.optim.SGD"}
    assert scheduler_spec("plateau", None)["_target_"] == "torch.optim.lr_scheduler.ReduceLROnPlateau"
    assert scheduler_spec(None, None) is None
    with pytest.raises(ValueError, match="unknown optimizer 'nosuch'; choose one of adam, adamw"):
        optimizer_spec("nosuch")


@pytest.mark.parametrize("spec, message", [
    ({"_target_": "os.system"}, "must be torch.optim.<Name>"),
    ({"_target_": "torch.optim.Optimizer"}, "must be torch.optim.<Name>"),
    ({"_target_": "torch.optim._functional"}, "must be torch.optim.<Name>"),
    ({"_target_": "torch.optim.lr_scheduler.StepLR"}, "must be torch.optim.<Name>"),
    ({"_target_": "torch.optim.Adam", "betas": {"_target_": "os.system"}}, "must be plain data"),
    ({"_target_": "torch.optim.Adam", "momentum": 0.9}, "takes no argument 'momentum'"),
    ("torch.optim.Adam", "must be a mapping"),
])
def test_optimizer_specs_outside_the_allow_list_are_refused(spec, message):
    with pytest.raises(ValueError, match=message) as info:
        check_optimizer_spec(spec)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("spec, message", [
    ({"_target_": "subprocess.run"}, "must be torch.optim.lr_scheduler.<Name>"),
    ({"_target_": "torch.optim.lr_scheduler.LambdaLR", "lr_lambda": "x"}, "must be torch.optim.lr_scheduler"),
    ({"_target_": "torch.optim.lr_scheduler.SequentialLR"}, "must be torch.optim.lr_scheduler"),
    ({"_target_": "torch.optim.Adam"}, "must be torch.optim.lr_scheduler"),
    ({"_target_": "torch.optim.lr_scheduler.StepLR", "step_size": 2, "nosuch": 1}, "no argument 'nosuch'"),
    ({"_target_": "torch.optim.lr_scheduler.StepLR", "step_size": 2, "interval": "batch"}, "step or epoch"),
])
def test_scheduler_specs_outside_the_allow_list_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        check_scheduler_spec(spec)


@pytest.mark.parametrize("option", ["cosine", "warmup_cosine", "one_cycle", "plateau"])
def test_every_schedule_option_is_allowed_and_builds(option):
    spec = group_spec("lr_scheduler", option)
    check_scheduler_spec(spec)
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1, momentum=0.9)
    config = build_scheduler(spec, optimizer, total_steps=50, lr=0.1)
    plateau = option == "plateau"
    assert config["interval"] == ("epoch" if plateau else "step")
    assert (config.get("monitor") == "val/loss") == plateau
    if option == "one_cycle":
        assert config["scheduler"].total_steps == 50 and max(config["scheduler"].get_last_lr()) < 0.1
    if option == "cosine":
        assert config["scheduler"].T_max == 50


def test_open_ended_run_needs_an_explicit_length():
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="T_max=null needs a run of known length"):
        build_scheduler(group_spec("lr_scheduler", "cosine"), optimizer, total_steps=math.inf, lr=0.1)


def test_warmup_cosine_follows_its_formula():
    base, eta_min, warmup, total = 0.4, 0.01, 5, 25
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=base)
    schedule = WarmupCosineLR(optimizer, total_steps=total, warmup_steps=warmup, eta_min=eta_min)
    seen = []
    for _ in range(total + 5):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    expected = []
    for step in range(total + 5):  # the formula, written independently
        if step < warmup:
            expected.append(base * (step + 1) / warmup)
        else:
            progress = min(1.0, (step - warmup) / (total - warmup))
            expected.append(eta_min + 0.5 * (base - eta_min) * (1 + math.cos(math.pi * progress)))
    assert seen == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert seen[warmup] == pytest.approx(base) and seen[-1] == pytest.approx(eta_min)
    assert set(schedule.state_dict()) >= {"total_steps", "warmup_steps", "eta_min", "last_epoch"}
