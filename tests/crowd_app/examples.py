"""The request examples of document 004, verbatim: (path, body, shape of the response)."""

VIOLENCE = {
    "instruction": "Does the image contain violent content?",
    "attachments_type": "image",
    "attachments": ["http://i.imgur.com/qRWH5.jpg"],
    "choices_type": "text",
    "choices": ["no violence", "mild violence", "intense violence"],
}
CATS = {
    "instruction": "Mark all the cats in the image",
    "attachments_type": "image",
    "attachments": ["http://i.imgur.com/2hOoEp1.jpg"],
}

EXAMPLES = {
    "multiple-choice": ("/v1/requests/multiple-choice?block=30", VIOLENCE),
    "free-text": (
        "/v1/requests/free-text?block=30",
        {
            "instruction": "Translate from Spanish to English",
            "attachments_type": "text",
            "attachments": ["hola mundo"],
        },
    ),
    "rating": (
        "/v1/requests/rating?block=30",
        {
            "instruction": "Estimate the age of the person in the image",
            "attachments_type": "image",
            "attachments": ["http://i.imgur.com/GWxg2wC.jpg"],
            "rating_min": 0,
            "rating_max": 100,
            "rating_step": 5,
        },
    ),
    "image": ("/v1/requests/image?block=30", {"instruction": "A picture of a birthday cake"}),
    "video": ("/v1/requests/video?block=30", {"instruction": "A video of a cat walking"}),
    "audio": (
        "/v1/requests/audio?block=30",
        {"instruction": "Pronounce the word", "attachments_type": "text", "attachments": ["encyclopedia"]},
    ),
    "annotations": (
        "/v1/requests/annotations?block=30",
        {
            "instruction": "Mark the fashion accessories in the image",
            "attachments_type": "image",
            "attachments": ["http://i.imgur.com/piKjc.jpg"],
        },
    ),
    "annotations-with-multiple-choice": (
        "/v1/requests/annotations-with-multiple-choice?block=30",
        {
            **CATS,
            "per_annotation": {
                "instruction": "What color is the cat",
                "choices_type": "text",
                "choices": ["gray", "white", "black", "ginger"],
            },
        },
    ),
    "annotations-with-free-text": (
        "/v1/requests/annotations-with-free-text?block=30",
        {**CATS, "per_annotation": {"instruction": "What's the facial expression of the cat?"}},
    ),
    "annotations-with-rating": (
        "/v1/requests/annotations-with-rating?block=30",
        {
            **CATS,
            "per_annotation": {
                "instruction": "How aggressive is the cat?",
                "rating_min": 0,
                "rating_max": 10,
                "label_min": "not aggressive",
                "label_max": "very aggressive",
            },
        },
    ),
    "phone-call": (
        "/v1/requests/free-text?block=30",
        {
            "instruction": "Please dial the number below and enter. The supplied PIN code will be entered "
            "automaticall (no need to enter it). An automated system will tell you the current balance in an "
            "account. Please write down the balance in the response",
            "attachments_type": "text",
            "attachments": ["dial:+1212123456@ww1234", "PIN Code: 1234"],
            "validation": "number",
        },
    ),
    "majority-voting": (
        "/v1/requests/multiple-choice?block=30",
        {**VIOLENCE, "confidence": {"strategy": "majority", "min_agreements": 2, "max_crunchers": 3}},
    ),
}
