"""Utilities without registered modules: where the packaged configs and tools are."""

from .package_paths import config_path, configs_root, mim_root, tool_path, tools_root

__all__ = ['config_path', 'configs_root', 'mim_root', 'tool_path', 'tools_root']
