"""Placeholder: replaced by the `specs` command group."""
import click


@click.group()
def specs() -> None:
    """Reference OpenAPI specs per Airflow release."""
