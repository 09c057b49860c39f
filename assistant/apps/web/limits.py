"""Limits the server enforces (issue 14), shared by the tabs, the API and the HTTP guard."""

# The page's own limits (a textbox's max_length) hold in the browser only: a raw queue or API call
# skips them, so every handler applies them again here.
MAX_QUESTION = 500  # characters of a question (chat and /ask); the rest is not read
MAX_COMMENT = 1000  # characters of a feedback comment
MAX_QUERY = 200  # characters of a 瀏覽條文 search
ADMIN_FIELDS = {"title": ("標題", 200), "issuer": ("發文機關", 100), "date": ("日期", 20),
                "doc_number": ("文號", 100)}
MAX_BODY_BYTES = 4 * 2**20  # any request but an upload (a long conversation's chat history fits)
MAX_UPLOAD_FILES = 20  # files in one upload request (each at most corpus.extract.MAX_FILE_BYTES)
CACHE_SWEEP = (600, 1800)  # Gradio's delete_cache: every 10 min, uploads older than 30 min
# Failed logins: LOGIN_FREE_FAILURES in a row from one client, then it waits LOGIN_LOCKOUT
# seconds, doubled for every further failure up to LOGIN_MAX_LOCKOUT; a success resets.
LOGIN_FREE_FAILURES = 5
LOGIN_LOCKOUT = 60.0
LOGIN_MAX_LOCKOUT = 900.0
