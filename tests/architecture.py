"""An import-linter contract: an area is used from outside only through its public modules.

Layers say which area may import which; this says *what* of it. An area's `ledger`, `rules` or
`codes` module is free to change shape because no other area, and no view, reaches into it: across
the boundary only `services`, `selectors`, `models` and `errors` (and their submodules) are used.
Listing each private module in a `forbidden` contract would let a new one slip through unnoticed;
this contract names the few public ones instead.
"""

from importlinter import Contract, ContractCheck, fields, output


class AreaInterfacesContract(Contract):
    type_name = "area_interfaces"

    areas = fields.ListField(subfield=fields.StringField())
    importers = fields.ListField(subfield=fields.StringField())
    interfaces = fields.ListField(subfield=fields.StringField())
    # "importer -> imported" pairs tolerated for now; each one is a debt, listed where all can see it.
    allowed = fields.ListField(subfield=fields.StringField(), required=False)

    def _is_public(self, area: str, module: str) -> bool:
        if module == area:
            return True
        first = module[len(area) + 1 :].split(".", 1)[0]
        return first in self.interfaces

    def check(self, graph, verbose: bool) -> ContractCheck:
        importers = {name for root in self.importers for name in graph.find_descendants(root) | {root}}
        broken = []
        for area in self.areas:
            internals = {
                module
                for module in graph.find_descendants(area)
                if not self._is_public(area, module) and not module.startswith(f"{area}.migrations")
            }
            for module in sorted(internals):
                for importer in sorted(graph.find_modules_that_directly_import(module) & importers):
                    if importer == area or importer.startswith(f"{area}."):
                        continue
                    if f"{importer} -> {module}" in (self.allowed or []):
                        continue
                    lines = [
                        d["line_number"] for d in graph.get_import_details(importer=importer, imported=module)
                    ]
                    broken.append((importer, module, lines))
        return ContractCheck(kept=not broken, warnings=None, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, module, lines in check.metadata["broken"]:
            output.print_error(f"- {importer} -> {module} (l.{', '.join(map(str, lines))})", bold=False)
            output.new_line()
        output.print_error(
            f"Use the area's {', '.join(self.interfaces)} instead, or move what is needed there.", bold=False
        )
