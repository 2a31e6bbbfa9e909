"""Inputs for an emulated board's chips, run inside its board process (pi.emulator.remote's
``inputs_hook="board_inputs:levels"``): each input of each chip at its own level, so every
stored value names the chip and input it came from."""

LEVELS_V = {0: 0.25, 1: 0.75, 2: 1.25, 3: 1.75}     # input → volts
CHIP_STEP_V = 0.1                                    # added per chip of the kit, in order


def level(chip_index: int, j: int) -> float:
    return LEVELS_V[j] + CHIP_STEP_V * chip_index


def levels(bus, kit) -> None:
    for i, chip in enumerate(kit.chips):
        for j in range(4):
            bus.chip(chip.address).set_input(j, level(i, j))


def expected_counts(kit) -> list[int]:
    """The value each column must hold (ADS1115 at the kit's gain: 16-bit counts)."""
    index = {c.name: i for i, c in enumerate(kit.chips)}
    out = []
    for s in kit.layout:
        chip = kit.chip(s.chip)
        out.append(round(level(index[s.chip], s.input) / chip.fs_v * 32768))
    return out
