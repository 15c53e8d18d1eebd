"""The app factory and the embedded stores."""

from sqlalchemy import text


def test_app_answers_home_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "竞答" in response.get_data(as_text=True)


def test_database_and_redis_are_real(app):
    with app.extensions["jd.db"].engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    redis = app.extensions["jd.state"].redis
    redis.set("jd:test:probe", "1")
    assert redis.get("jd:test:probe") == "1"
    assert redis.info("server")["redis_version"]


def test_unknown_api_path_answers_json(client):
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"] and body["message"]
