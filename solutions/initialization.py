"""Reference solutions for 06_initialization."""
import math

import torch
from torch import nn


def set_weight_from_numpy(layer, array):
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(array))
    return layer


def init_linear_normal(net, std):
    for module in net.modules():
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return net


def init_xavier(net):
    for module in net.modules():
        if isinstance(module, nn.Linear):
            fan_out, fan_in = module.weight.shape
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            nn.init.uniform_(module.weight, -bound, bound)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return net
