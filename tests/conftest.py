"""Fixtures shared by the scripts' tests: a paper formula written once, independently of every script."""
import numpy as np
import pytest
import torch


@pytest.fixture
def fourier_reference():
    """features(x, low, high, n_features, sigma, seed=0) = [sin z, cos z], z = ((x - low) / (high - low)) @ B,
    B = 2 pi sigma N(0, 1) as the first draw after torch.manual_seed(seed) (Tancik et al. 2020, eq. 5): what a
    script's Fourier-feature network built right after torch.manual_seed(seed) must compute."""

    def features(x, low, high, n_features, sigma, seed=0):
        low, high = (torch.tensor(v, dtype=torch.float32) for v in (low, high))
        torch.manual_seed(seed)
        B = 2 * np.pi * sigma * torch.randn(len(low), n_features)
        z = ((x - low) / (high - low)) @ B
        return torch.cat([torch.sin(z), torch.cos(z)], dim=-1)

    return features
