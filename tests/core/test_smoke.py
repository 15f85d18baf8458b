def test_home_page_is_japanese(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "窓口へようこそ" in response.get_data(as_text=True)
