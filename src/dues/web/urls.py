from django.contrib.auth.views import LogoutView
from django.urls import path

from .views import auth, customers, dashboard

app_name = "web"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),  # POST only (Django's LogoutView)
    path("customers/", customers.customer_list, name="customers"),
    # <path:> so that codes with a slash (Tally exports have them) still have a page
    path("customers/<path:code>/", customers.customer_detail, name="customer"),
]
