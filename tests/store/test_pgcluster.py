def test_smoke(pg_cluster, pg_url):
    assert pg_cluster.psql("select 1+1") == "2"
    db = pg_url.rsplit("/", 1)[1]
    assert pg_cluster.psql("select current_database()", db) == db
