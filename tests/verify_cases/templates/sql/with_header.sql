{% include 'sql/header.sql' %}
SELECT 1;
