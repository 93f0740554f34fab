"""marshmallow's nested messages flattened to the `errors` member of a 422 problem."""

from my_app.errors import flatten_errors


def test_nested_fields_get_dotted_names():
    messages = {"topic": ["Too long."], "address": {"country": ["Unknown."], "floor": ["No."]}}
    assert flatten_errors(messages) == {
        "topic": ["Too long."],
        "address.country": ["Unknown."],
        "address.floor": ["No."],
    }


def test_list_items_are_named_by_their_index():
    messages = {"tags": {0: ["Not a string."]}, "items": [{"id": ["Missing."]}, ["Bad."]]}
    assert flatten_errors(messages) == {
        "tags.0": ["Not a string."],
        "items.0.id": ["Missing."],
        "items.1": ["Bad."],
    }


def test_schema_level_errors_belong_to_their_object():
    assert flatten_errors({"_schema": ["Give one."]}) == {"_schema": ["Give one."]}
    nested = {"address": {"_schema": ["Invalid input type."]}}
    assert flatten_errors(nested) == {"address": ["Invalid input type."]}


def test_a_bare_message_or_list_is_a_schema_error():
    assert flatten_errors("Invalid input type.") == {"_schema": ["Invalid input type."]}
    assert flatten_errors(["One.", "Two."]) == {"_schema": ["One.", "Two."]}
