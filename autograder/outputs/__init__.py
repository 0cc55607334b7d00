"""What grading writes for people: the class report (``report``), the students' feedback pages (``pages``, on the
shared page code of ``webpage``), and spreadsheet-safe CSV (``csvsafe``)."""
