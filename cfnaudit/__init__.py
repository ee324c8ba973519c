"""cfnaudit: a compliance linter and static analyzer for AWS CloudFormation templates."""

__version__ = "0.1.0"
