from sqlmodel import Session, func, select

from directory.listings.details import Taxonomy, TaxonomyTerm
from directory.listings.service import ensure_taxonomy
from directory.listings.taxonomy import (
    CATEGORY_CODES,
    FELLOWSHIPS,
    TAXONOMY_ID,
    TERMS,
    ancestors,
    children,
    term,
    term_id,
)


def test_ancestors_run_from_the_term_up_to_its_root():
    assert ancestors("buprenorphine") == ["buprenorphine", "mat", "treatment"]
    assert ancestors("aa") == ["aa", "support-groups"]
    assert ancestors("food") == ["food"]


def test_tree_is_well_formed_with_parents_listed_before_children():
    seen: set[str] = set()
    for t in TERMS:
        assert t.code not in seen, f"duplicate code {t.code}"
        assert t.parent is None or t.parent in seen, f"{t.code} listed before its parent"
        assert t.name and t.name_es and t.description
        seen.add(t.code)
    assert seen == CATEGORY_CODES
    assert children("mat") == ["buprenorphine", "methadone", "naltrexone"]


def test_ids_are_stable_and_unique():
    assert term("methadone").id == term_id("methadone")
    assert term("methadone").parent_id == term_id("mat")
    assert len({t.id for t in TERMS} | {TAXONOMY_ID}) == len(TERMS) + 1


def test_every_fellowship_maps_to_a_support_group_category():
    assert {"aa", "na", "smart", "al-anon", "peer-led"} <= set(FELLOWSHIPS)
    for code, fellowship in FELLOWSHIPS.items():
        assert fellowship.label, code
        assert ancestors(fellowship.category)[-1] == "support-groups", code


def test_ensure_taxonomy_is_idempotent_and_keeps_the_hierarchy(session: Session):
    ensure_taxonomy(session=session)
    ensure_taxonomy(session=session)

    assert session.exec(select(func.count()).select_from(Taxonomy)).one() == 1
    assert session.exec(select(func.count()).select_from(TaxonomyTerm)).one() == len(TERMS)
    bupe = session.exec(select(TaxonomyTerm).where(TaxonomyTerm.code == "buprenorphine")).one()
    parent = session.get(TaxonomyTerm, bupe.parent_id)
    assert parent is not None and parent.code == "mat"
    assert bupe.taxonomy_id == TAXONOMY_ID
