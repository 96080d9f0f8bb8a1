"""``edgeaudit inspect BUNDLE``: validate a bundle and describe it for people or machines."""

from __future__ import annotations

import json

import click

from edgeaudit.bundle import Bundle, load_bundle


def describe_bundle(bundle: Bundle) -> str:
    """A readable summary of the manifest; the JSON form carries everything."""
    data = bundle.manifest.data
    model, onnx_section, tok = data["model"], data["onnx"], data["tokenizer"]
    check = data["export_check"]
    if check.get("verified"):
        diffs = check["max_abs_diff"]
        check_line = (
            f"verified against PyTorch (tolerance {check['tolerance']:g}): max |diff| hidden "
            f"{diffs['hidden_states']:.2e}, attention {diffs['attentions']:.2e}, output {diffs['final_output']:.2e}"
        )
        if "max_rel_diff" in check:  # bundles since the relative criterion; older ones carry absolute figures only
            check_line += f"; relative to the tap's magnitude {max(check['max_rel_diff'].values()):.2e}"
    else:
        check_line = f"not verified ({check.get('reason', 'no reason recorded')})"
    parent = data["variant"]["parent_sha256"]
    lines = [
        f"bundle     {bundle.directory}",
        f"model      {model['architecture']} ({model['model_type']}, {model['family']}, "
        f"{'causal' if model['causal'] else 'bidirectional'})",
        f"shape      {model['num_layers']} layers x {model['num_heads']} heads, hidden {model['hidden_size']}, "
        f"vocab {model['vocab_size']}, max positions {model['max_positions']}",
        f"onnx       {onnx_section['file']} (opset {onnx_section['opset']}, {onnx_section['exporter']}), "
        f"sha256 {onnx_section['sha256'][:16]}…",
        f"inputs     {', '.join(onnx_section['inputs'])}",
        f"taps       attention_0..{model['num_layers'] - 1} [batch, head, query, key]; "
        f"hidden_state_0..{model['num_layers']} [batch, seq, hidden]; final {data['taps']['final_output']}",
        f"tokenizer  {tok['file']} ({tok['kind']}, max length {tok['max_length']}, pads {tok['padding_side']})",
        f"variant    {data['variant']['name']}" + (f" (parent {parent[:16]}…)" if parent else ""),
        f"check      {check_line}",
        f"created    {data['provenance']['created']}",
    ]
    return "\n".join(lines)


@click.command("inspect")
@click.argument("bundle_dir", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the validated manifest as JSON.")
@click.option("--no-hash", is_flag=True, help="Skip re-hashing the ONNX file (faster on large models).")
def inspect_command(bundle_dir: str, as_json: bool, no_hash: bool) -> None:
    """Validate BUNDLE_DIR and print what it holds.

    \b
    Examples:
      edgeaudit inspect ./bundle
      edgeaudit inspect ./bundle --json | jq .export_check
    """
    bundle = load_bundle(bundle_dir, verify_hash=not no_hash)
    if as_json:
        click.echo(json.dumps(bundle.manifest.data, indent=2))
    else:
        click.echo(describe_bundle(bundle))
        click.echo("valid: yes")
