"""WorkDataHub ELT: monthly enterprise-annuity workbooks into PostgreSQL with dlt and dbt."""

__version__ = "0.1.0"
