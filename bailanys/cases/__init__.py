"""Citizens' requests (cases) with deadlines, complaints and promises (issue 19).

Pure cores: :mod:`~bailanys.cases.model`, :mod:`~bailanys.cases.lifecycle`,
:mod:`~bailanys.cases.calendar`, :mod:`~bailanys.cases.deadlines`,
:mod:`~bailanys.cases.duplicates`; the thin synchronous store:
:mod:`~bailanys.cases.store` (schema v7).
"""
