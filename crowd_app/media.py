"""Where the crunchers' uploaded image, video and audio answers are stored."""

MEDIA_PREFIX = "crowd/answers/"
